package lambdaauth

import "fmt"

// samTemplate wires the function as the Lambda authorizer of an HTTP API: payload format 2.0,
// simple responses. The cache key is the Authorization header AND the method and path: with
// the header alone, API Gateway would reuse one route's cached isAuthorized for every route
// (an engineer allowed on /api/items would reach /admin/users until the TTL ran out).
func samTemplate(arch string, ttl int) string {
	return fmt.Sprintf(`# Written by pingedge edge lambda build. Deploy: sam deploy --guided
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: pingedge Lambda authorizer in front of an HTTP API
Parameters:
  OriginUrl:
    Type: String
    Description: the API behind the gateway, e.g. https://api.internal.example.com
Resources:
  Authorizer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: function.zip
      Handler: bootstrap
      Runtime: provided.al2023
      Architectures: [%s]
      MemorySize: 256
      Timeout: 10
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: pingedge
      ProtocolType: HTTP
  PingedgeAuthorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: pingedge
      AuthorizerType: REQUEST
      AuthorizerPayloadFormatVersion: "2.0"
      EnableSimpleResponses: true
      AuthorizerUri: !Sub "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Authorizer.Arn}/invocations"
      # Authorization alone would let one route's cached answer decide another's.
      IdentitySource: ["$request.header.Authorization", "$context.httpMethod", "$context.path"]
      AuthorizerResultTtlInSeconds: %d # no longer than the policy's cache_ttl
  InvokePermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !GetAtt Authorizer.Arn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${PingedgeAuthorizer}"
  Origin:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: ANY
      IntegrationUri: !Sub "${OriginUrl}/{proxy}"
      PayloadFormatVersion: "1.0"
      # The verified identity for the origin; a client-sent value is overwritten.
      RequestParameters:
        "overwrite:header.X-Auth-User": "$context.authorizer.sub"
        "overwrite:header.X-Auth-Roles": "$context.authorizer.roles"
        "remove:header.Authorization": "''"
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: "ANY /{proxy+}"
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref PingedgeAuthorizer
      Target: !Sub "integrations/${Origin}"
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: $default
      AutoDeploy: true
Outputs:
  ApiUrl:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com"
`, arch, ttl)
}

// terraform is the same wiring for Terraform (aws provider): the authorizer resources only,
// to attach to an existing aws_apigatewayv2_api.
func terraform(arch string, ttl int) string {
	return fmt.Sprintf(`# Written by pingedge edge lambda build: the authorizer for an existing HTTP API.
variable "api_id" { type = string }
variable "api_execution_arn" { type = string }

resource "aws_iam_role" "pingedge" {
  name = "pingedge-authorizer"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "pingedge_logs" {
  role       = aws_iam_role.pingedge.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "pingedge" {
  function_name    = "pingedge-authorizer"
  filename         = "${path.module}/function.zip"
  source_code_hash = filebase64sha256("${path.module}/function.zip")
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = ["%s"]
  memory_size      = 256
  timeout          = 10
  role             = aws_iam_role.pingedge.arn
}

resource "aws_apigatewayv2_authorizer" "pingedge" {
  api_id                            = var.api_id
  name                              = "pingedge"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = aws_lambda_function.pingedge.invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  # Authorization alone would let one route's cached answer decide another's.
  identity_sources                  = ["$request.header.Authorization", "$context.httpMethod", "$context.path"]
  authorizer_result_ttl_in_seconds  = %d # no longer than the policy's cache_ttl
}

resource "aws_lambda_permission" "pingedge" {
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.pingedge.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/authorizers/${aws_apigatewayv2_authorizer.pingedge.id}"
}
`, arch, ttl)
}
